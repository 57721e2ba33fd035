"""Reports built by hand in the shape of docs/report-shape.md, for the xlsx and html writers' tests."""

from __future__ import annotations


DANGEROUS = ["=1+1", '=HYPERLINK("http://x","y")', "+84 xóm Núi", "-Xóm Giữa", "@Bản Mới"]


SERVICES = [
    {"code": "dvc", "name": "Dịch vụ công trực tuyến"},
    {"code": "vneid", "name": "VNeID mức 2"},
    {"code": "ctn", "name": "C-Thái Nguyên"},
]


def flow(month, ytd, total):
    return {"month": month, "ytd": ytd, "total": total}


def ratio(part, whole):
    return part / whole if whole else None


def indicators(teams, decided, hamlets, covered, members, trained, households, working_age,
               visits, reached, people, services):
    """An indicator block as report.py makes it; flows are (month, ytd, total) tuples."""
    return {
        "teams": teams,
        "teams_with_decision": decided,
        "hamlets": hamlets,
        "hamlets_covered": covered,
        "hamlets_covered_pct": ratio(covered, hamlets),
        "members": members,
        "members_trained": trained,
        "members_trained_pct": ratio(trained, members),
        "households": households,
        "working_age": working_age,
        "visits": flow(*visits),
        "households_reached": flow(*reached),
        "households_reached_pct": {k: ratio(v, households) for k, v in zip(("month", "ytd", "total"), reached)},
        "people_helped": flow(*people),
        "people_by_service": {code: flow(*values) for code, values in services.items()},
    }


def add_rows(rows):
    """The total of rows, as report.py would compute it (flows summed; fine for fixtures)."""
    keys = ("teams", "teams_with_decision", "hamlets", "hamlets_covered", "members", "members_trained",
            "households", "working_age")
    total = {key: sum(row[key] for row in rows) for key in keys}
    for key in ("visits", "households_reached", "people_helped"):
        total[key] = {p: sum(row[key][p] for row in rows) for p in ("month", "ytd", "total")}
    total["hamlets_covered_pct"] = ratio(total["hamlets_covered"], total["hamlets"])
    total["members_trained_pct"] = ratio(total["members_trained"], total["members"])
    total["households_reached_pct"] = {
        p: ratio(total["households_reached"][p], total["households"]) for p in ("month", "ytd", "total")
    }
    codes = {code for row in rows for code in row["people_by_service"]}
    total["people_by_service"] = {
        code: {p: sum(row["people_by_service"].get(code, {}).get(p, 0) for row in rows)
               for p in ("month", "ytd", "total")}
        for code in sorted(codes)
    }
    return total


def unit(code, name, level, structure="legacy"):
    data = {"code": code, "name": name, "level": level}
    if level in ("commune", "district", "province") and structure:
        data["structure"] = structure
    return data


def base(level, this_unit, parent, row_level, rows, **extra):
    report = {
        "schema": "cdt.report/1",
        "month": "2026-10",
        "period": {"start": "2026-10-01", "end": "2026-10-31", "year_start": "2026-01-01"},
        "level": level,
        "unit": this_unit,
        "parent": parent,
        "province": {"code": "19", "name": "Tỉnh Thái Nguyên"},
        "generated_at": "2026-11-03T10:00:00",
        "services": SERVICES,
        "row_level": row_level,
        "rows": rows,
        "commune_rows": [],
        "total": add_rows(rows),
        "completeness": [],
        "targets": [],
        "notes": [],
    }
    report.update(extra)
    return report


def commune_report():
    names = ["Tổ dân phố Sơn Tập 1", "Xóm Chợ", "Xóm\x07 Đồng Tâm"] + DANGEROUS
    rows = []
    for number, name in enumerate(names):
        rows.append({
            "unit": unit(f"h{number}", name, "hamlet"),
            **indicators(1, 1 if number % 3 else 0, 1, 1, 4 + number % 3, 3, 120 + 10 * number, 300 + number,
                         (6 + number, 40 + number, 55 + number), (5, 30 + number, 41 + number),
                         (9 + number, 61 + number, 80 + number),
                         {"dvc": (4, 30, 35), "vneid": (5 + number, 31 + number, 45 + number)}),
        })
    rows[3]["unit"]["name"] = "=1+1"
    report = base(
        "commune", unit("05761", "Thị trấn Hùng Sơn", "commune"),
        {"code": "171", "name": "Huyện Đại Từ", "level": "district"}, "hamlet", rows,
        targets=[
            {"indicator": "people_helped", "year": 2026, "value": 500, "percent": False,
             "actual": 534, "progress": 1.068},
            {"indicator": "hamlets_covered_pct", "year": 2026, "value": 1.0, "percent": True,
             "actual": 1.0, "progress": 1.0},
        ],
        notes=["Số liệu tháng 10 đã được tổ trưởng các xóm xác nhận."],
    )
    return report


def district_report():
    communes = [("05761", "Thị trấn Hùng Sơn"), ("05764", "Xã Phú Xuyên"), ("05767", "Xã La Bằng"),
                ("05770", "Xã Hà Thượng"), ("05773", "Xã Phú Thịnh")]
    rows = []
    for number, (code, name) in enumerate(communes):
        rows.append({
            "unit": unit(code, name, "commune"),
            **indicators(18 + number, 17 + number, 20 + number, 18 + number, 140 + 7 * number, 120 + 5 * number,
                         2400 + 100 * number, 6100 + 50 * number,
                         (310 + number, 2900 + number, 3500 + number), (250, 1800 + number, 2100 + number),
                         (1234 + number, 10250 + 7 * number, 12000 + number),
                         {"dvc": (600, 5000, 6000), "vneid": (700 + number, 6000, 7000), "ctn": (55, 300, 310)}),
        })
    completeness = [
        {"unit": unit(code, name, "commune"), "reported": number != 2,
         "packed_at": None if number == 2 else f"2026-11-0{number + 1}T08:00:00",
         "merged_at": None if number == 2 else f"2026-11-0{number + 2}T09:30:00"}
        for number, (code, name) in enumerate(communes)
    ]
    return base(
        "district", unit("171", "Huyện Đại Từ", "district"),
        {"code": "19", "name": "Tỉnh Thái Nguyên", "level": "province"}, "commune", rows,
        completeness=completeness,
        targets=[{"indicator": "people_helped", "year": 2026, "value": 60000, "percent": False,
                  "actual": 51285, "progress": 0.85475}],
    )


def province_report():
    districts = [("164", "Thành phố Thái Nguyên"), ("171", "Huyện Đại Từ"), ("168", "Huyện Phú Lương")]
    rows = [
        {"unit": unit(code, name, "district"),
         **indicators(700 + 50 * n, 690, 860, 700 + 50 * n, 5400 + n, 5000, 60000, 150000,
                      (3100, 29000, 35000), (2500, 18000, 21000), (12345 + n, 102500, 120000),
                      {"dvc": (6000, 50000, 60000), "vneid": (7000, 60000, 70000)})}
        for n, (code, name) in enumerate(districts)
    ]
    communes = [
        {"unit": unit(code, name, "commune"),
         **indicators(20, 20, 22, 20, 150, 120, 2500, 6000, (300, 2900, 3500), (250, 1800, 2100),
                      (1200, 10000, 12000), {"dvc": (600, 5000, 6000)})}
        for code, name in [("05761", "Thị trấn Hùng Sơn"), ("05764", "Xã Phú Xuyên"), ("05443", "Phường Quang Trung")]
    ]
    completeness = [
        {"unit": c["unit"], "reported": True, "packed_at": "2026-11-02T08:00:00",
         "merged_at": "2026-11-03T09:00:00"} for c in communes
    ]
    return base(
        "province", unit("19", "Tỉnh Thái Nguyên", "province"), None, "district", rows,
        commune_rows=communes, completeness=completeness,
    )


def province_2025_report():
    communes = [("05749", "Xã Đại Từ"), ("05800", "Phường Phan Đình Phùng"), ("05812", "Xã Quân Chu")]
    rows = [
        {"unit": unit(code, name, "commune", "2025"),
         **indicators(40 + n, 40, 45, 40 + n, 300, 260, 5000, 12000, (600, 5800, 7000), (500, 3600, 4200),
                      (2400 + n, 20000, 24000), {"dvc": (1200, 10000, 12000), "ctn": (300, 2000, 2100)})}
        for n, (code, name) in enumerate(communes)
    ]
    completeness = [
        {"unit": r["unit"], "reported": n != 1, "packed_at": "2026-11-02T08:00:00" if n != 1 else None,
         "merged_at": "2026-11-04T09:00:00" if n != 1 else None}
        for n, r in enumerate(rows)
    ]
    return base(
        "province", unit("19", "Tỉnh Thái Nguyên", "province", "2025"), None, "commune", rows,
        commune_rows=rows, completeness=completeness,
        notes=["Đơn vị hành chính từ ngày 01/7/2025 không còn cấp huyện."],
    )


REPORTS = {
    "commune": commune_report,
    "district": district_report,
    "province": province_report,
    "province_2025": province_2025_report,
}


def with_trends(report):
    months = [f"2025-{m:02d}" for m in (11, 12)] + [f"2026-{m:02d}" for m in range(1, 11)]
    series = {key: [n * k for n in range(1, 13)] for k, key in
              enumerate(("visits", "households_reached", "people_helped", "digital_citizens"), start=1)}
    report["trends"] = {
        "months": months, "indicators": list(series), "total": series,
        "rows": [{"unit": row["unit"], **{key: [n for n in range(12)] for key in series}} for row in report["rows"]],
        "targets": [{"indicator": "people_helped", "year": 2026, "value": 60000, "percent": False,
                     "path": [{"month": f"2026-{m:02d}", "actual": 5000 * m, "progress": 5000 * m / 60000,
                               "line": 5000 * m} for m in range(1, 11)]}],
    }
    return report


def _area_report(level, this_unit, parent, codes_names, active, structure="legacy"):
    """A report of many communes, most of them silent, as report.py makes it (rates included)."""
    from cdt.reports.rates import apply_rates, has_figures

    rows = []
    for n, (code, name) in enumerate(codes_names):
        if n in active:
            k = active.index(n)
            households = 633 if k == 1 else 0
            values = indicators(3 + k, 3, 3 + k, 3 + k, 8 + k, 5, households, 1415 if households else 0,
                                (26 + k, 62 + k, 62 + k), (24 - k, 51, 51), (75 + 4 * k, 193, 193),
                                {"dvc": (22 + k, 68, 68), "vneid": (37, 74, 74), "ctn": (14, 43, 43)})
        else:
            values = indicators(0, 0, 0, 0, 0, 0, 0, 0, (0, 0, 0), (0, 0, 0), (0, 0, 0), {})
        values["digital_citizens"] = flow(values["people_helped"]["month"] - 10 if n in active else 0, 0, 0)
        rows.append({"unit": unit(code, name, "commune", structure), **values})
    total = add_rows(rows)
    total["digital_citizens"] = flow(sum(r["digital_citizens"]["month"] for r in rows), 0, 0)
    leaves = [row for row in rows if has_figures(row)]
    for row in rows:
        apply_rates(row, [row] if has_figures(row) else [], "commune")
    apply_rates(total, leaves, "commune")
    completeness = [{"unit": r["unit"], "reported": n in active,
                     "packed_at": "2026-11-02T08:00:00" if n in active else None,
                     "merged_at": "2026-11-03T09:00:00" if n in active else None,
                     "missing_bases": [] if r["households"] or n not in active else ["households", "working_age"]}
                    for n, r in enumerate(rows)]
    report = base(level, this_unit, parent, "commune", rows, total=total, completeness=completeness,
                  commune_rows=rows if level == "province" else [],
                  notes=[f"Còn {len(rows) - len(active)}/{len(rows)} xã chưa gửi số liệu tháng này."])
    report["digital_citizen_services"] = ["dvc", "vneid", "payment"]
    return with_trends(report)


def dai_tu_report():
    """Huyện Đại Từ as the demo leaves it: 27 communes, 5 of them reporting, households of one only."""
    from cdt.domain import units

    district = units.get("171", level="district", structure="legacy")
    communes = [(u.code, u.name) for u in units.communes_in(district)]
    return _area_report("district", unit("171", "Huyện Đại Từ", "district"),
                        {"code": "19", "name": "Tỉnh Thái Nguyên", "level": "province"}, communes, [0, 1, 2, 3, 4])


def dak_lak_2025_report():
    """Tỉnh Đắk Lắk after 1 July 2025: 102 communes, three of them reporting."""
    from cdt.domain import units

    province = units.get("66", level="province", structure="2025")
    communes = [(u.code, u.name) for u in units.communes_in(province)]
    report = _area_report("province", unit("66", province.name, "province", "2025"), None, communes, [3, 40, 77],
                          structure="2025")
    report["province"] = {"code": "66", "name": province.name}
    report["notes"].insert(0, "Từ 1/7/2025 không còn cấp huyện: báo cáo tỉnh có một dòng cho mỗi xã.")
    return report
