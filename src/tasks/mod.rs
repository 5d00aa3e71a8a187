//! Tasks: thin layers that add an objective and constraints to a lowered network.
