"""Federation (clause 4.3.6 distributed operations): answering from the context sources a
hub has registered (``/csourceRegistrations``) as well as from its own store."""
