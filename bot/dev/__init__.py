"""Development tools, apart from what runs in production: the test stack (``stack``), the
benchmark (``bench``) and the NLU evaluation (``nlu_eval``)."""
