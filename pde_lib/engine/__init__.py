"""The training engine shared by pretraining and fine-tuning (one module per idea).

* ``config``: ``EngineConfig``, the run fields every training-like config shares.
* ``seeding``: ``derived_seed`` (one named random stream per run) and ``build_run_model`` (the
  seeded initialisation rule).
* ``windowing`` (``TASKS``, input/target windows), ``losses`` (relative L2), ``optim`` (AdamW +
  cosine), ``checkpoint`` (atomic backbone and training-state files).
* ``data``: ``with_augmented_copies`` (a run's seeded augmented copies).
* ``run``: ``Run``, one run's trained modules, random streams, history and resume state.
* ``stepper``: ``Stepper``, the one step loop over an objective ``batch -> (loss, stats)``;
  ``cuda_graph`` replays a step as a CUDA graph; ``stacked`` steps K runs as one.
* ``driver``: ``train_runs``, the one epoch loop (divergence check, evaluation and selection,
  history, atomic checkpoint when due, ``on_epoch_end``, progress bar).

Nothing is imported here: import the module you need."""
