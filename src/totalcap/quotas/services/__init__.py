"""Total-control use cases, one module per concern.

* :mod:`.totals` — region totals, allocation proposals, reserve draws and returns
* :mod:`.plans` — period plans and special periods
* :mod:`.cards` — cards and swipes (monthly loading)
* :mod:`.consumption` — real-time consumption and thresholds
* :mod:`.valves` — valve orders
* :mod:`.transfers` — adjustments and transfers
* :mod:`.settlement` — month-end and year-end settlement
"""
