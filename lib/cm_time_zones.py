"""Campaign Monitor's client time-zone labels and the IANA zones they stand for.

CM offers these 97 labels (``GET /timezones.json``). Each names a Windows time zone; the IANA
zone here is the one the Unicode CLDR maps that Windows zone to, so daylight saving time is
applied. A label missing from this table falls back to its standard offset.

Shared by the sync engine (reading CM dates) and the CM sandbox (writing them), as both need
what CM itself means by a label.
"""

from __future__ import annotations

import datetime as dt
import re
from functools import lru_cache
from zoneinfo import ZoneInfo

CM_LABEL_TO_IANA: dict[str, str] = {
    "(GMT) Casablanca": "Africa/Casablanca",
    "(GMT) Coordinated Universal Time": "UTC",
    "(GMT) Greenwich Mean Time : Dublin, Edinburgh, Lisbon, London": "Europe/London",
    "(GMT) Monrovia, Reykjavik": "Atlantic/Reykjavik",
    "(GMT+01:00) Amsterdam, Berlin, Bern, Rome, Stockholm, Vienna": "Europe/Berlin",
    "(GMT+01:00) Belgrade, Bratislava, Budapest, Ljubljana, Prague": "Europe/Budapest",
    "(GMT+01:00) Brussels, Copenhagen, Madrid, Paris": "Europe/Paris",
    "(GMT+01:00) Sarajevo, Skopje, Warsaw, Zagreb": "Europe/Warsaw",
    "(GMT+01:00) West Central Africa": "Africa/Lagos",
    "(GMT+02:00) Amman": "Asia/Amman",
    "(GMT+02:00) Athens, Bucharest, Istanbul": "Europe/Bucharest",
    "(GMT+02:00) Beirut": "Asia/Beirut",
    "(GMT+02:00) Cairo": "Africa/Cairo",
    "(GMT+02:00) Damascus": "Asia/Damascus",
    "(GMT+02:00) Harare, Pretoria": "Africa/Johannesburg",
    "(GMT+02:00) Helsinki, Kyiv, Riga, Sofia, Tallinn, Vilnius": "Europe/Helsinki",
    "(GMT+02:00) Jerusalem": "Asia/Jerusalem",
    "(GMT+02:00) Minsk": "Europe/Minsk",
    "(GMT+02:00) Windhoek": "Africa/Windhoek",
    "(GMT+03:00) Baghdad": "Asia/Baghdad",
    "(GMT+03:00) Kuwait, Riyadh": "Asia/Riyadh",
    "(GMT+03:00) Moscow, St. Petersburg, Volgograd": "Europe/Moscow",
    "(GMT+03:00) Nairobi": "Africa/Nairobi",
    "(GMT+03:30) Tehran": "Asia/Tehran",
    "(GMT+04:00) Abu Dhabi, Muscat": "Asia/Dubai",
    "(GMT+04:00) Baku": "Asia/Baku",
    "(GMT+04:00) Port Louis": "Indian/Mauritius",
    "(GMT+04:00) Tbilisi": "Asia/Tbilisi",
    "(GMT+04:00) Yerevan": "Asia/Yerevan",
    "(GMT+04:30) Kabul": "Asia/Kabul",
    "(GMT+05:00) Ekaterinburg": "Asia/Yekaterinburg",
    "(GMT+05:00) Islamabad, Karachi": "Asia/Karachi",
    "(GMT+05:00) Tashkent": "Asia/Tashkent",
    "(GMT+05:30) Chennai, Kolkata, Mumbai, New Delhi": "Asia/Kolkata",
    "(GMT+05:30) Sri Jayawardenepura": "Asia/Colombo",
    "(GMT+05:45) Kathmandu": "Asia/Kathmandu",
    "(GMT+06:00) Astana": "Asia/Almaty",
    "(GMT+06:00) Dhaka": "Asia/Dhaka",
    "(GMT+06:00) Novosibirsk": "Asia/Novosibirsk",
    "(GMT+06:30) Yangon (Rangoon)": "Asia/Yangon",
    "(GMT+07:00) Bangkok, Hanoi, Jakarta": "Asia/Bangkok",
    "(GMT+07:00) Krasnoyarsk": "Asia/Krasnoyarsk",
    "(GMT+08:00) Beijing, Chongqing, Hong Kong, Urumqi": "Asia/Shanghai",
    "(GMT+08:00) Irkutsk": "Asia/Irkutsk",
    "(GMT+08:00) Kuala Lumpur, Singapore": "Asia/Singapore",
    "(GMT+08:00) Perth": "Australia/Perth",
    "(GMT+08:00) Taipei": "Asia/Taipei",
    "(GMT+08:00) Ulaanbaatar": "Asia/Ulaanbaatar",
    "(GMT+09:00) Osaka, Sapporo, Tokyo": "Asia/Tokyo",
    "(GMT+09:00) Seoul": "Asia/Seoul",
    "(GMT+09:00) Yakutsk": "Asia/Yakutsk",
    "(GMT+09:30) Adelaide": "Australia/Adelaide",
    "(GMT+09:30) Darwin": "Australia/Darwin",
    "(GMT+10:00) Brisbane": "Australia/Brisbane",
    "(GMT+10:00) Canberra, Melbourne, Sydney": "Australia/Sydney",
    "(GMT+10:00) Guam, Port Moresby": "Pacific/Port_Moresby",
    "(GMT+10:00) Hobart": "Australia/Hobart",
    "(GMT+10:00) Vladivostok": "Asia/Vladivostok",
    "(GMT+11:00) Magadan, Solomon Is., New Caledonia": "Pacific/Guadalcanal",
    "(GMT+12:00) Auckland, Wellington": "Pacific/Auckland",
    "(GMT+12:00) Coordinated Universal Time+12": "Etc/GMT-12",
    "(GMT+12:00) Fiji": "Pacific/Fiji",
    "(GMT+12:00) Petropavlovsk-Kamchatsky - Old": "Asia/Kamchatka",
    "(GMT+13:00) Nuku'alofa": "Pacific/Tongatapu",
    "(GMT-01:00) Azores": "Atlantic/Azores",
    "(GMT-01:00) Cape Verde Is.": "Atlantic/Cape_Verde",
    "(GMT-02:00) Coordinated Universal Time-02": "Etc/GMT+2",
    "(GMT-02:00) Mid-Atlantic": "Atlantic/South_Georgia",
    "(GMT-03:00) Brasilia": "America/Sao_Paulo",
    "(GMT-03:00) Buenos Aires": "America/Argentina/Buenos_Aires",
    "(GMT-03:00) Cayenne, Fortaleza": "America/Cayenne",
    "(GMT-03:00) Greenland": "America/Nuuk",
    "(GMT-03:00) Montevideo": "America/Montevideo",
    "(GMT-03:30) Newfoundland": "America/St_Johns",
    "(GMT-04:00) Asuncion": "America/Asuncion",
    "(GMT-04:00) Atlantic Time (Canada)": "America/Halifax",
    "(GMT-04:00) Cuiaba": "America/Cuiaba",
    "(GMT-04:00) Georgetown, La Paz, Manaus, San Juan": "America/La_Paz",
    "(GMT-04:00) Santiago": "America/Santiago",
    "(GMT-04:30) Caracas": "America/Caracas",
    "(GMT-05:00) Bogota, Lima, Quito": "America/Bogota",
    "(GMT-05:00) Eastern Time (US & Canada)": "America/New_York",
    "(GMT-05:00) Indiana (East)": "America/Indiana/Indianapolis",
    "(GMT-06:00) Central America": "America/Guatemala",
    "(GMT-06:00) Central Time (US & Canada)": "America/Chicago",
    "(GMT-06:00) Guadalajara, Mexico City, Monterrey": "America/Mexico_City",
    "(GMT-06:00) Saskatchewan": "America/Regina",
    "(GMT-07:00) Arizona": "America/Phoenix",
    "(GMT-07:00) Chihuahua, La Paz, Mazatlan": "America/Mazatlan",
    "(GMT-07:00) Mountain Time (US & Canada)": "America/Denver",
    "(GMT-08:00) Baja California": "America/Tijuana",
    "(GMT-08:00) Pacific Time (US & Canada)": "America/Los_Angeles",
    "(GMT-09:00) Alaska": "America/Anchorage",
    "(GMT-10:00) Hawaii": "Pacific/Honolulu",
    "(GMT-11:00) Coordinated Universal Time-11": "Etc/GMT+11",
    "(GMT-11:00) Samoa": "Pacific/Apia",
    "(GMT-12:00) International Date Line West": "Etc/GMT+12",
}


_ZONE_OFFSET = re.compile(r"^\(\s*(?:GMT|UTC)\s*(?:([+-])(\d{1,2}):?(\d{2})?)?\s*\)")


@lru_cache(maxsize=128)
def zone_from_cm(label: str | None) -> dt.tzinfo:
    """The zone of a CM client from its ``TimeZone`` label, e.g. "(GMT+10:00) Canberra, …".

    CM writes every date as wall-clock time in the client's zone. A label from CM's list maps to
    its IANA zone (daylight saving time included); any other label falls back to the standard
    offset it names, and an unreadable one counts as UTC.
    """
    iana = CM_LABEL_TO_IANA.get((label or "").strip())
    if iana:
        return ZoneInfo(iana)
    found = _ZONE_OFFSET.match((label or "").strip())
    if not found or not found.group(1):
        return dt.UTC
    minutes = int(found.group(2)) * 60 + int(found.group(3) or 0)
    sign = -1 if found.group(1) == "-" else 1
    return dt.timezone(sign * dt.timedelta(minutes=minutes))
