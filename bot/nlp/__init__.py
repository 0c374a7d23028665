"""Danish language processing: the spaCy pipeline the NLU uses, text normalisation and
language detection."""
