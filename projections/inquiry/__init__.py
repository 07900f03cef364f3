"""The CNIL inquiry pack (``ledger inquiry``): a report, spreadsheets and evidence."""
