"""What a run is made of, read and checked: the city, the service catalogue, parameters, levers, scenarios."""
