"""Model discovery: find and classify the models a user already has on disk."""
