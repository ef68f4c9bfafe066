"""dasshh-history: a terminal browser for the chat history of the dasshh assistant."""

__version__ = "0.1.0"
