"""`python -m bot`: see bot/app.py."""

from bot.app import main

if __name__ == "__main__":
    main()
