"""hoivien-bot application package."""
