"""Writes the bad-input corpus in this folder (the files are committed; rerun to rebuild).

Every file is tiny and hand-checkable; expected.yaml says what each must produce.
Run: .venv/bin/python tests/data/bad/make_corpus.py
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq

from graphwatch.resolve.ids import make_resident_id, resident_id_check_char

HERE = Path(__file__).parent
V1, V2 = "140105001001", "140105001002"
HH = "户号,姓名,公民身份号码,性别,出生日期,与户主关系,民族,住址,村代码,联系电话"
ID = [make_resident_id("140105", dt.date(1950 + i, 1 + i % 12, 1 + i), 11 + 2 * i) for i in range(20)]


def hh_row(i, name, **kw):
    r = {"户号": f"H{i}", "姓名": name, "公民身份号码": ID[i], "性别": "男", "出生日期": "1980-01-01",
         "与户主关系": "户主", "民族": "汉", "住址": "东村", "村代码": V1, "联系电话": ""}
    r.update(kw)
    return ",".join(r.values())


def write(name, text, encoding="utf-8"):
    (HERE / name).write_bytes(text.encode(encoding))


def main():
    write("divisions.csv", f"区划代码,区划名称,级别,上级代码\n140105001,城关镇,乡镇,\n{V1},东村,村,140105001\n{V2},西村,村,140105001\n")
    write("organisations.csv", f"单位代码,单位名称,单位类型,所在区划代码,监管行业\nORG1,东村村委会,村委会,{V1},\nORG2,县住建局,县直部门,140105001,建筑\n")
    write("programmes.csv", "项目代码,项目名称,互斥组,贫困救助\nDB,低保,A,是\nTK,特困供养,A,是\nYL,城乡居民养老金,,否\n")
    good = "\n".join([HH, hh_row(1, "张三"), hh_row(2, "李四", 与户主关系="户主"), hh_row(3, "王五")]) + "\n"
    write("household_gbk.csv", good, "gbk")
    write("household_bom.csv", good, "utf-8-sig")
    write("household_semicolon.csv", good.replace(",", ";"))
    write("household_missing_column.csv", "\n".join(l.rsplit(",", 1)[0] for l in good.splitlines()) + "\n")
    write("household_unknown_column.csv", "\n".join(l + (",备注" if i == 0 else ",x") for i, l in enumerate(good.splitlines())) + "\n")
    write("household_empty.csv", "")
    write("household_header_only.csv", HH + "\n")
    (HERE / "household_undecodable.csv").write_bytes(HH.encode("utf-8") + b"\nH1,\xff\xfe\xff,,,,,,,,\n")
    bad_ids = [hh_row(1, "甲", 公民身份号码=ID[1][:-1] + ("0" if ID[1][-1] != "0" else "1")),      # checksum typo
               hh_row(2, "乙", 公民身份号码=ID[2][:6] + ID[2][8:17]),                            # 15-digit legacy
               hh_row(3, "丙", 公民身份号码="4.40301E+17"),                                        # Excel float
               hh_row(4, "丁", 公民身份号码="".join(chr(ord(c) + 0xFEE0) for c in ID[4])),          # full-width
               hh_row(5, "戊", 公民身份号码="000000000000000000"),                                  # placeholder
               hh_row(6, "己", 公民身份号码="14010519990230001" + resident_id_check_char("14010519990230001")),  # impossible date
               hh_row(7, "庚", 公民身份号码="")]
    write("household_bad_ids.csv", "\n".join([HH] + bad_ids) + "\n")
    write("household_dates.csv", "\n".join([HH, hh_row(1, "甲", 出生日期="2021-03-05"), hh_row(2, "乙", 出生日期="2021/3/5"),
                                           hh_row(3, "丙", 出生日期="20210305"), hh_row(4, "丁", 出生日期="2021年3月5日"),
                                           hh_row(5, "戊", 出生日期="19990230"), hh_row(6, "己", 出生日期="明年")]) + "\n")
    write("household_missing_required.csv", "\n".join([HH, hh_row(1, "甲"), hh_row(2, "")]) + "\n")
    write("household_duplicate_conflict.csv", "\n".join([HH, hh_row(1, "张三"), hh_row(1, "张叁", 户号="H9")]) + "\n")
    write("household_duplicate_same.csv", "\n".join([HH, hh_row(1, "张三"), hh_row(1, "张三")]) + "\n")
    write("household_dangling_village.csv", "\n".join([HH, hh_row(1, "甲"), hh_row(2, "乙", 村代码="999999999999")]) + "\n")
    write("household_ragged.csv", "\n".join([HH, hh_row(1, "甲"), hh_row(2, "乙") + ",多余", hh_row(3, "丙")]) + "\n")
    write("household_huge_field.csv", "\n".join([HH, hh_row(1, "甲"), hh_row(2, "乙", 住址="很" * 70000)]) + "\n")
    write("household_bad_sex.csv", "\n".join([HH, hh_row(1, "甲", 性别="2"), hh_row(2, "乙", 性别="X")]) + "\n")
    write("household_quoted_newline.csv", "\n".join([HH, hh_row(1, "甲", 住址='"东村\n3组"'), hh_row(2, "", 住址="西村")]) + "\n")
    write("household_tab.tsv", good.replace(",", "\t"))
    BR = "发放记录号,姓名,公民身份号码,村代码,项目代码,发放金额,发放起始,发放截止,审批单位代码"
    write("benefit_mixed_types.csv", "\n".join([BR, f"B1,甲,{ID[1]},{V1},DB,\"1,200.50\",2021-01-01,2021-12-31,ORG1",
                                               f"B2,乙,{ID[2]},{V1},DB,300元,2021-01-01,2021-12-31,ORG1",
                                               f"B3,丙,{ID[3]},{V1},DB,abc,2021-01-01,2021-12-31,ORG1",
                                               f"B4,丁,{ID[4]},{V1},DB,12,2021-01-01,2021-12-31,ORG1"]) + "\n", "gbk")
    write("benefit_no_id.csv", "\n".join([BR, f"B1,王小明,,{V1},DB,100,2021-01-01,2021-12-31,ORG1",
                                         f"B2,王小明,,{V1},YL,100,2021-01-01,2021-12-31,ORG1",
                                         f"B3,赵六,{ID[6]},{V2},DB,100,2021-01-01,,ORG1"]) + "\n")
    write("benefit_dangling_programme.csv", "\n".join([BR, f"B1,甲,{ID[1]},{V1},NOPE,100,2021-01-01,2021-12-31,ORG1",
                                                      f"B2,乙,{ID[2]},{V1},DB,100,2021-01-01,2021-12-31,ORG1"]) + "\n")
    write("benefit_duplicate_record_no.csv", "\n".join([BR, f"B1,甲,{ID[1]},{V1},DB,100,2021-01-01,2021-12-31,ORG1",
                                                       f"B1,乙,{ID[2]},{V1},DB,200,2021-01-01,2021-12-31,ORG1"]) + "\n")
    # Excel: merged title row, text IDs, date cells, one ID Excel turned into a number
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["2024年公职人员及村“两委”干部名册"])
    ws.merge_cells("A1:J1")
    ws.append(["序号", "姓名", "公民身份号码", "性别", "单位代码", "职务", "人员类别", "任职村代码", "任职开始", "任职结束"])
    ws.append([1, "陈明", ID[10], "男", "ORG1", "村党支部书记", "村干部", V1, dt.date(2021, 1, 1), None])
    ws.append([2, "刘强", float(ID[11][:-1] + "0"), "男", "ORG2", "科员", "公职人员", None, dt.datetime(2019, 5, 6), dt.date(2023, 5, 6)])
    ws.append([3, "周洁", ID[12], "女", "ORG1", "会计", "村干部", V1, "2020/7/1", None])
    ws.append([4, "吴敏", ID[13], "女", "ORG1", "委员", "村委", V1, dt.date(2021, 1, 1), None])
    wb.save(HERE / "officials_title_row.xlsx")
    wb = openpyxl.Workbook()
    wb.active.append(["名单"])
    wb.active.append(["甲", "乙"])
    wb.save(HERE / "officials_no_header.xlsx")
    # Parquet: typed columns (a date column, an int amount)
    write("projects.csv", f"项目编号,项目名称,项目所在村代码,建设单位代码,预算金额,开工日期\nP1,东村道路硬化,{V1},ORG1,350000,2022-03-01\n")
    pq.write_table(pa.table({"招标编号": ["T1", "T2"], "项目编号": ["P1", "P1"], "招标名称": ["道路", "道路二期"],
                             "预算金额": [350000, 120000], "发包方式": ["公开招标", "内定"],
                             "公告日期": [dt.date(2022, 2, 1), dt.date(2022, 5, 1)]}), HERE / "tenders.parquet")
    write("bids_dangling_tender.csv", "招标编号,投标单位信用代码,投标单位名称,投标金额,投标日期\n"
                                      "T1,91140105MA0ABC1232,甲公司,340000,2022-02-10\nT404,91140105MA0ABC1232,甲公司,1,2022-02-10\n")
    # issue 14: months, percentages, 万元, date_format, divisions named in words, on_conflict, typed when
    write("divisions_more.csv", "区划代码,区划名称,级别,上级代码\n140105002,河西乡,乡镇,\n140105002001,东村,村,140105002\n")
    write("monthly_roll.csv", "流水号,姓名,乡镇,村,发放年月,金额\n"
                              "M1,甲,城关镇,东村,2024-01,300\nM2,乙,城关镇,东村委会,2024年2月,300\n"
                              "M3,丙,城关镇,西村,202403,300\nM4,丁,城关镇,东村,2024/13,300\n"
                              "M5,戊,城关镇,北村,2024-05,300\nM6,己,河西乡,东村,2024.6,1.2万\n")
    write("shareholdings.csv", "统一社会信用代码,股东姓名,持股比例,认缴出资\n"
                               "91140105MA0ABC1232,甲,28.33%,12.5万元\n91140105MA0ABC1232,乙,28.33 %,\"1,200万\"\n"
                               "91140105MA0ABC1232,丙,0.2833,1亿\n91140105MA0ABC1232,丁,28.33,300\n"
                               "91140105MA0ABC1232,戊,15％,300元\n91140105MA0ABC1232,己,abc,\n")
    write("shareholdings_scaled.csv", "统一社会信用代码,股东姓名,持股比例,认缴出资,注册资本（万元）\n"
                                      "91140105MA0ABC1232,甲,50%,10,12.5\n")
    write("visits_mdy.csv", "编号,日期\nX1,03/04/2021\nX2,12/31/2021\nX3,13/04/2021\nX4,2021-03-04\n")
    ok, bad = ID[1], ID[2][:-1] + ("0" if ID[2][-1] != "0" else "1")
    write("officials_valid_only.csv", f"姓名,公民身份号码,在编\n甲,{ok},否\n乙,{bad},是\n丙,,是\n丁,{ID[3]},是\n")
    write("household_first.csv", "\n".join([HH, hh_row(1, "张三"), hh_row(1, "张叁", 户号="H9"), hh_row(2, "李四")]) + "\n")
    write("household_priority.csv", "\n".join([HH, hh_row(1, "甲", 户号="H1", 住址="东村1组"),
                                               hh_row(2, "乙", 户号="H1", 住址="东村2组"), hh_row(3, "丙")]) + "\n")
    write("orgs_by_township.csv", "单位代码,单位名称,所在乡镇\nT1,城关镇财政所,城关镇人民政府\nT2,河西乡政府,河西乡\n"
                                  "T3,河东乡政府,河东乡\n")
    write("household_keyed_by_names.csv", "户号,乡镇,村\nH1,城关镇,西村\nH2,城关镇,东村\nH3,城关镇,北村\n")
    db = HERE / "benefit_rolls.sqlite"
    db.unlink(missing_ok=True)
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE roll (发放记录号 TEXT, 姓名 TEXT, 公民身份号码 TEXT, 村代码 TEXT, 项目代码 TEXT, "
                "发放金额 REAL, 发放起始 TEXT, 发放截止 TEXT, 审批单位代码 TEXT)")
    con.executemany("INSERT INTO roll VALUES (?,?,?,?,?,?,?,?,?)", [
        ("S1", "甲", ID[1], V1, "DB", 100.5, "2021-01-01", "2021-06-30", "ORG1"),
        ("S2", "乙", None, V1, "YL", 80, "2021-01-01", None, "ORG1"),
        ("S3", "丙", ID[3], V1, "DB", None, "2021-01-01", None, "ORG1")])
    con.commit()
    con.close()


if __name__ == "__main__":
    main()
