"""Background work: the feed scheduler inside ``serve`` and the AMQP daemon (``uploaderd``)."""
