"""Local stand-ins for the outside services Genflow talks to (KIE, Telegram), for tests and demos."""
