pytest_plugins = ["failbrief.testing.fixtures"]
