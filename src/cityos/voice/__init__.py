"""Citizens' voice: opinions, inquiries and posts about the city — their sentiment and topics."""
