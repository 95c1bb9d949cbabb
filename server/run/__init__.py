"""Running the mock: settings, assembly from settings, the HTTP servers (waitress, granian, a test thread)."""
