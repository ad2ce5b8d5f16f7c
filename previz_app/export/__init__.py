"""Exports for the crew and the money: storyboard boards (PDF, PNG contact sheets),
shot lists (CSV, XLSX) and pitch decks (PPTX and PDF from one layout). No Qt."""
