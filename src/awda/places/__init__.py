"""The gazetteer (places with P-codes) and sites where displaced people live."""
