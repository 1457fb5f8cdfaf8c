"""advisor: bilingual industrial-strategy advisory chatbot."""

__version__ = "0.2.0"
