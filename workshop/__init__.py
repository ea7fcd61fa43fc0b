"""Tools for the workshop: your own workspace, and the check of each step."""
