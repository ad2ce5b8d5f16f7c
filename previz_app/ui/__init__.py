"""The desktop app: everything Qt lives here and calls the layers below it."""
