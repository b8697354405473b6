"""Generation core: one backend protocol (`types`), a registry of models, the HF API and local backends, and the
seed's facade (`facade`, also importable as `bot.HF_gen_response`)."""
