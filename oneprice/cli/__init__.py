"""The ``oneprice`` command. Each module here adds its commands through ``register(app)``."""
