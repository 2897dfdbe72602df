"""The HTTP side: create_app(), dependencies, one router per route family."""
