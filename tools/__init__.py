"""Development tools, apart from what runs in production and not shipped in the wheel or the
image: the benchmark (``bench``, ``baseline``, ``load``), the profile, the NLU and document
evaluations (``nlu_eval``, ``documents_eval``) and the wrong-topic rate (``wrong_topic``)."""
