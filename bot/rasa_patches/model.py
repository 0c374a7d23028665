"""Corrections of how Rasa loads a trained model.

11. **A trained model is loaded without a training step.** To give DIET and TED their weights,
   ``RasaModel.load`` compiled the model and *trained it on one example* before reading the saved
   weights: TensorFlow traced and kept the whole training step, ~250 MB of the Rasa process per
   model, for a step never run again. The weights are read first (TensorFlow restores each
   variable as it is created) and the prediction Rasa makes after loading anyway creates them.
   Same weights, same predictions; to fine-tune, or without an example to predict on, Rasa's
   own ``load`` runs.
"""
from __future__ import annotations

from typing import Any

from bot.rasa_patches.guard import Correction, Kind, Target, wrap


def _load_without_training_step(original: Any) -> Any:
    def load(cls: Any, model_file_name: str, model_data_example: Any, predict_data_example: Any = None,
             finetune_mode: bool = False, *args: Any, **kwargs: Any) -> Any:
        """``RasaModel.load``: weights restored as the first prediction creates them."""
        if finetune_mode or predict_data_example is None:
            return original(cls, model_file_name, model_data_example, predict_data_example, finetune_mode,
                            *args, **kwargs)
        import tensorflow as tf
        from rasa.utils.tensorflow.constants import LEARNING_RATE, RUN_EAGERLY

        model = cls(*args, **kwargs)
        config = kwargs.get("config", {})
        model.compile(optimizer=tf.keras.optimizers.Adam(config.get(LEARNING_RATE, 0.001)),
                      run_eagerly=config.get(RUN_EAGERLY))
        # The optimizer's slots in the file have no variables now: not an error when reading.
        model.load_weights(model_file_name).expect_partial()
        model.run_inference(predict_data_example)  # creates (and so restores) every variable
        return model

    return classmethod(load)


def _install_11() -> None:
    from rasa.utils.tensorflow.models import RasaModel

    wrap(RasaModel, "load", lambda load: _load_without_training_step(load.__func__))


CORRECTIONS = (
    Correction(11, "a trained model loaded without a training step", Kind.SPEED, (
        Target("rasa.utils.tensorflow.models:RasaModel.load", "84fd81c0fdd01a80"),
    ), _install_11),
)
