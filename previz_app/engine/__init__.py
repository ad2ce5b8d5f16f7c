"""Frame generation, no Qt: requests, prompts, the blocking renderer, the diffusers
backend, model discovery and the job runner.

Importing this package stays cheap: torch and diffusers load only when the
diffusers backend is first used.
"""
