"""The 24/7 FAQ chatbot: answers from the city's FAQ entries, never invented text."""
