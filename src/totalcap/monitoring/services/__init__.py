"""Monitoring services (business logic). The public entry points:

* :mod:`.pipeline` — ``recompute(outlet_ids, start, end)``, ``run()`` (the periodic job), ``mark_dirty``;
* :mod:`.accounting` — ``hourly_amounts``, ``increments_since``, ``register_hour_listener`` (quota ledger);
* :mod:`.states` — ``device_states``, ``record_device_states`` (gateway), ``register_label_provider``;
* :mod:`.review` — review actions, evidence, manual monitoring data and its Excel import;
* :mod:`.rules` — rule sets and their versions; :mod:`.rates` — capture and transmission rates.
"""
