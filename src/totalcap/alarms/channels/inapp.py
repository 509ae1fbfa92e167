"""In-app: a message in the recipient's inbox in the web UI."""

from __future__ import annotations

from totalcap.alarms.channels.base import ChannelAdapter, Message, Result


class InAppAdapter(ChannelAdapter):
    address_kind = "user"

    def send(self, message: Message) -> Result:
        from totalcap.alarms.models import InAppNotification

        if message.user_id is None:
            return Result(ok=False, error="in-app message without a user", retry=False)
        note = InAppNotification.objects.create(
            user_id=message.user_id, alarm_id=message.alarm_id, text=f"{message.title}：{message.text}"
        )
        return Result(ok=True, response=f"notification {note.pk}")
