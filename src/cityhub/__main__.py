"""Allow ``python -m cityhub``."""

from cityhub.cli import main

if __name__ == "__main__":
    main()
