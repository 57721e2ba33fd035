"""The service catalogue and how typed words resolve to a code."""

from __future__ import annotations

from typing import Any

# The national catalogue every file knows; provinces add their own rows to ``service``.
DEFAULT_SERVICES: list[dict[str, Any]] = [
    {"code": "dvc", "name": "Dịch vụ công trực tuyến",
     "aliases": ["DVCTT", "Cổng dịch vụ công", "dịch vụ công", "public services"]},
    {"code": "vneid", "name": "Định danh điện tử VNeID", "aliases": ["VNeID", "định danh điện tử"]},
    {"code": "payment", "name": "Thanh toán không dùng tiền mặt",
     "aliases": ["thanh toán điện tử", "ví điện tử", "QR", "cashless"]},
    {"code": "ecommerce", "name": "Thương mại điện tử", "aliases": ["TMĐT", "sàn thương mại điện tử", "mua bán trực tuyến"]},
    {"code": "ehealth", "name": "Sổ sức khỏe điện tử", "aliases": ["y tế số", "sức khỏe điện tử"]},
    {"code": "esign", "name": "Chữ ký số", "aliases": ["chữ ký điện tử", "digital signature"]},
    {"code": "elearning", "name": "Học trực tuyến", "aliases": ["giáo dục trực tuyến", "online learning"]},
    {"code": "cybersafety", "name": "An toàn trên không gian mạng",
     "aliases": ["an toàn thông tin", "phòng chống lừa đảo", "an ninh mạng"]},
    {"code": "bdhvs", "name": "Bình dân học vụ số", "aliases": ["Binh dan hoc vu so"]},
]
