"""Keys: pseudonyms, per-subject sealing (crypto-shredding), key files, the signing key."""
