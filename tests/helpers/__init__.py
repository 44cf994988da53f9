"""Helpers the store's tests share with the processes they spawn (which import them by name)."""
