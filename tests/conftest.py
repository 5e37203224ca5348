import jax

# Numbers are the product: every test runs in float64 with strict rank promotion.
jax.config.update("jax_enable_x64", True)
jax.config.update("jax_numpy_rank_promotion", "raise")
