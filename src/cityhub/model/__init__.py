"""Pure NGSI-LD domain: entities and attributes in the hub's expanded internal form,
their validation and their representations. No I/O."""
