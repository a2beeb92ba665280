"""The simulation engine: the population as arrays, the monthly step and its mechanisms, the Mesa views."""
