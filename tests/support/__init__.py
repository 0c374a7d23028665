"""What the tests share: the assistant as `make run` starts it (``stack``) and the production
configuration started natively (``cluster``); ``tools.bench`` and ``tools.profile`` use them too."""
