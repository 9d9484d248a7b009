"""What a view shows: its parameters, the features it selects, popups and source lines."""
