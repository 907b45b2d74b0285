"""An app module that cannot be imported."""
raise ImportError("broken on purpose")
