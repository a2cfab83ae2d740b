"""HTTP only: content negotiation, parameters, representations; one module per API area."""
