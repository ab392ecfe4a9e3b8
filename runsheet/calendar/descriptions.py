"""The Vietnamese text of calendar events: places, descriptions and the programme.

Calendar apps show DESCRIPTION and LOCATION as plain text, so everything here is plain
lines; times are written in the event's own zone. No framework imports.
"""

from __future__ import annotations

from datetime import date, datetime

from ..domain.plan import Activity, AgendaItem, Conference, Deadline, Plan, Point

WEEKDAYS = ("thứ Hai", "thứ Ba", "thứ Tư", "thứ Năm", "thứ Sáu", "thứ Bảy", "Chủ nhật")
FORMS = {"online": "Trực tuyến", "hybrid": "Trực tiếp kết hợp trực tuyến", "in-person": ""}
CANCELLED_NOTE = "ĐÃ HỦY: mục này không còn trong kế hoạch."


def clock(moment: datetime) -> str:
    """Return a time of day as ``08:00``."""
    return moment.strftime("%H:%M")


def day(value: date) -> str:
    """Return a date as ``thứ Sáu, 01/10/2021``."""
    return f"{WEEKDAYS[value.weekday()]}, {value.strftime('%d/%m/%Y')}"


def utc_offset(moment: datetime) -> str:
    """Return a moment's offset from UTC as ``UTC+07:00``."""
    offset = moment.strftime("%z")  # e.g. +0700
    return f"UTC{offset[:3]}:{offset[3:]}"


def point_location(point: Point) -> str:
    """Return where a point is: its name, and its address when it adds something."""
    if point.address and point.address not in point.name:
        return f"{point.name}, {point.address}"
    return point.name


def ceremony_location(plan: Plan) -> str:
    """Return the ceremony's place: its form, the central rooms and how many points join."""
    rooms = [p for p in plan.points if p.kind == "room"]
    others = [p for p in plan.points if p.kind != "room"]
    parts = []
    if rooms:
        names = ", ".join(p.name for p in rooms)
        addresses = {p.address for p in rooms}
        if len(addresses) == 1 and "" not in addresses:
            names += f", {addresses.pop()}"
        label = "điểm cầu trung tâm" if others else "điểm cầu"
        parts.append(f"{label}: {names}")
    if others:
        parts.append(f"{len(others)} điểm cầu kết nối")
    place = "; ".join(parts)
    form = FORMS.get(plan.event.form, "")
    if form and place:
        return f"{form} — {place}"
    return form or place


def item_location(plan: Plan, item: AgendaItem) -> str:
    """Return where a programme item is delivered from (the ceremony's place if not said)."""
    point = plan.point(item.point_id) if item.point_id else None
    return point_location(point) if point else ceremony_location(plan)


def when(plan: Plan) -> str:
    """Return the ceremony's time line, e.g. ``08:00–09:10, thứ Sáu, 01/10/2021 (UTC+07:00)``."""
    zone = plan.event.zone
    start = plan.event.starts_at.astimezone(zone)
    end = plan.planned_end.astimezone(zone)
    return (
        f"{clock(start)}–{clock(end)}, {day(start.date())} "
        f"(giờ {plan.event.timezone}, {utc_offset(start)})"
    )


def programme(plan: Plan) -> list[str]:
    """Return the programme as numbered lines with each item's planned times."""
    zone = plan.event.zone
    lines = []
    for number, slot in enumerate(plan.schedule(), start=1):
        item = slot.item
        line = f"{number}. {clock(slot.start.astimezone(zone))}–{clock(slot.end.astimezone(zone))}"
        line += f"  {item.title}"
        if item.speaker:
            line += f" — {item.speaker}"
        lines.append(line)
    if any(item.minutes_estimated for item in plan.agenda):
        lines.append("(Giờ của từng mục là dự kiến.)")
    return lines


def header(plan: Plan) -> list[str]:
    """Return the lines that open every description of the ceremony."""
    event = plan.event
    lines = [event.title]
    if event.theme:
        lines.append(f"Chủ đề: {event.theme}")
    lines.append(f"Thời gian: {when(plan)}")
    form = FORMS.get(event.form, "")
    if form:
        lines.append(f"Hình thức: {form.lower()}")
    if event.organizer:
        organizer = event.organizer
        if event.standing_body:
            organizer += f" (cơ quan thường trực: {event.standing_body})"
        lines.append(f"Đơn vị tổ chức: {organizer}")
    if event.reference:
        lines.append(f"Căn cứ: Kế hoạch số {event.reference}")
    return lines


def ceremony_description(plan: Plan) -> str:
    """Return the ceremony's description: header, programme and connection points."""
    lines = header(plan)
    if plan.event.description:
        lines += ["", plan.event.description]
    lines += ["", "Chương trình:", *programme(plan)]
    if plan.points:
        lines += ["", f"Điểm cầu ({len(plan.points)}):"]
        lines += [f"- {point.name}" for point in plan.points]
    lines += livestream_lines(plan)
    return "\n".join(lines)


def conference_label(conference: Conference) -> str:
    """Return how a meeting is named: its platform and meeting id (never the passcode)."""
    parts = [conference.platform or "Phòng họp trực tuyến"]
    if conference.meeting_id:
        parts.append(f"ID {conference.meeting_id}")
    return " · ".join(parts)


def conference_lines(conference: Conference | None) -> list[str]:
    """Return the lines that tell a point how to join its meeting (without the passcode)."""
    if conference is None:
        return []
    title = "Phòng họp trực tuyến"
    if conference.platform:
        title += f" ({conference.platform})"
    lines = ["", f"{title}:", f"Vào phòng họp: {conference.url}"]
    if conference.meeting_id:
        lines.append(f"Mã cuộc họp (ID): {conference.meeting_id}")
    return lines


def passcode_line(passcode: str) -> str:
    """Return the line that gives a meeting's passcode (only in a point's private files)."""
    return f"Mật khẩu: {passcode}"


def livestream_lines(plan: Plan) -> list[str]:
    """Return the line that says where to watch the ceremony live, if it is streamed."""
    url = plan.event.livestream_url
    return ["", f"Xem phát trực tiếp (livestream): {url}"] if url else []


def point_description(plan: Plan, point: Point) -> str:
    """Return the ceremony as seen from one point: its place, who attends, the programme."""
    lines = header(plan)
    lines += ["", f"Điểm cầu: {point_location(point)}"]
    if point.attendees:
        lines.append("Thành phần tham dự tại điểm cầu:")
        lines += [f"- {group}" for group in point.attendees]
    if point.contact_name:
        lines.append(f"Liên hệ tại điểm cầu: {point.contact_name}")
    lines += ["", "Chương trình:", *programme(plan)]
    # Last, so that a private file's passcode line follows the meeting's (see ics).
    lines += conference_lines(plan.conference_for(point.id))
    return "\n".join(lines)


def item_description(plan: Plan, item: AgendaItem) -> str:
    """Return one programme item's description: who, which unit, where, how long."""
    number = plan.item_index(item.id) + 1
    lines = [f"Mục {number}/{len(plan.agenda)} của chương trình: {plan.event.title}"]
    if item.speaker:
        lines.append(f"Người trình bày: {item.speaker}")
    if item.prepared_by:
        lines.append(f"Đơn vị chuẩn bị: {item.prepared_by}")
    point = plan.point(item.point_id) if item.point_id else None
    if point:
        lines.append(f"Điểm cầu: {point.name}")
    estimate = " (ước tính)" if item.minutes_estimated else ""
    lines.append(f"Thời lượng dự kiến: {item.planned_minutes} phút{estimate}")
    if item.notes:
        lines += ["", item.notes]
    return "\n".join(lines)


def activity_description(plan: Plan, activity: Activity) -> str:
    """Return an activity's description and the plan it belongs to."""
    end = max(activity.ends_on, activity.starts_on)
    lines = [f"Từ {day(activity.starts_on)} đến {day(end)}"]
    if activity.description:
        lines.append(activity.description)
    lines.append(belongs_to(plan))
    return "\n".join(lines)


def deadline_summary(deadline: Deadline) -> str:
    """Return a deadline's calendar title."""
    return f"Hạn: {deadline.title}"


def deadline_description(plan: Plan, deadline: Deadline) -> str:
    """Return a deadline's description: the date, who must deliver, what."""
    lines = [f"Hạn: {day(deadline.due_on)}"]
    if deadline.responsible:
        lines.append(f"Đơn vị thực hiện: {deadline.responsible}")
    if deadline.description:
        lines.append(deadline.description)
    lines.append(belongs_to(plan))
    return "\n".join(lines)


def belongs_to(plan: Plan) -> str:
    """Return the line naming the plan a week entry comes from."""
    if plan.event.reference:
        return f"Theo Kế hoạch số {plan.event.reference} — {plan.event.title}"
    return f"Thuộc: {plan.event.title}"
