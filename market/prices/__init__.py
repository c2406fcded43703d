"""Price collection: fetching pages politely, reading price tables and normalising what they say."""
