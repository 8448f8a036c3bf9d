"""What recipients do with flags: lifecycle, who may see what, consent, the inbox's read model."""
