"""The files a county hands over, as ``docs/sources.md`` specifies them.

One entry per file: its format, its encoding and its exact header. The generator writes
through these specs and the tests check the written files against them, so a change to
the contract is a change here (and in ``docs/sources.md``).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FileSpec:
    name: str
    format: str            # "csv" | "xlsx"
    encoding: str | None   # Python codec name for CSV ("utf-8-sig" = UTF-8 with BOM)
    headers: tuple[str, ...]
    title_row: bool = False  # Excel: a merged title row above the header


def _csv(name, encoding, *headers):
    return FileSpec(name, "csv", encoding, tuple(headers))


def _xlsx(name, *headers, title_row=False):
    return FileSpec(name, "xlsx", None, tuple(headers), title_row)


SOURCE_FILES: dict[str, FileSpec] = {s.name: s for s in [
    _csv("divisions.csv", "utf-8", "区划代码", "区划名称", "级别", "上级代码"),
    _csv("organisations.csv", "utf-8", "单位代码", "单位名称", "单位类型", "所在区划代码", "监管行业"),
    _xlsx("officials_roster.xlsx", "序号", "姓名", "公民身份号码", "性别", "单位代码", "职务", "人员类别",
          "任职村代码", "任职开始", "任职结束", title_row=True),
    _csv("household_registry.csv", "gbk", "户号", "姓名", "公民身份号码", "性别", "出生日期", "与户主关系",
         "民族", "住址", "村代码", "联系电话"),
    _csv("company_registry.csv", "utf-8-sig", "统一社会信用代码", "企业名称", "法定代表人", "法定代表人证件号码",
         "注册地址", "联系电话", "成立日期", "注册资本（万元）", "登记状态", "行业主管部门代码"),
    _csv("company_shareholders.csv", "utf-8-sig", "统一社会信用代码", "股东名称", "股东类型", "股东证件号码",
         "持股比例", "认缴日期", "退出日期"),
    _csv("company_executives.csv", "utf-8-sig", "统一社会信用代码", "姓名", "证件号码", "职务"),
    _csv("projects.csv", "utf-8", "项目编号", "项目名称", "项目所在村代码", "建设单位代码", "预算金额", "开工日期"),
    _xlsx("tenders.xlsx", "招标编号", "项目编号", "招标名称", "预算金额", "发包方式", "公告日期"),
    _csv("bids.csv", "utf-8", "招标编号", "投标单位信用代码", "投标单位名称", "投标金额", "投标日期"),
    _csv("contracts.csv", "gb18030", "合同编号", "招标编号", "项目编号", "中标单位信用代码", "中标单位名称",
         "合同金额", "发包方式", "审批人证件号码", "审批人姓名", "发包单位代码", "签订日期"),
    _csv("programmes.csv", "utf-8", "项目代码", "项目名称", "互斥组", "贫困救助"),
    _csv("benefit_rolls.csv", "gbk", "发放记录号", "姓名", "公民身份号码", "村代码", "项目代码", "发放金额",
         "发放起始", "发放截止", "审批单位代码"),
    _csv("disability_registry.csv", "utf-8", "残疾人证号", "姓名", "公民身份号码", "残疾类别", "残疾等级"),
    _xlsx("death_records.xlsx", "姓名", "公民身份号码", "死亡日期", "注销户口日期", "登记单位"),
    _csv("fiscal_payroll.csv", "utf-8", "姓名", "公民身份号码", "单位代码", "岗位", "月工资", "起始日期", "截止日期"),
    _csv("real_estate.csv", "utf-8", "不动产权证号", "权利人", "权利人证件号码", "坐落", "建筑面积", "登记日期"),
    _csv("vehicles.csv", "utf-8", "号牌号码", "车辆类型", "所有人", "所有人证件号码", "初次登记日期"),
    _csv("police_cases.csv", "utf-8", "案件编号", "案由", "发案时间", "发案地点", "处理结果"),
    _csv("police_case_parties.csv", "utf-8", "案件编号", "姓名", "公民身份号码", "角色", "处罚"),
]}

GROUND_TRUTH = _csv("_truth/ground_truth.csv", "utf-8", "model_id", "violation_id", "kind", "entity_kind",
                    "entity_key", "note")
PERSON_RECORDS = _csv("_truth/person_records.csv", "utf-8", "file", "line", "true_person_id")
PARAMS_FILE = "_truth/generator_params.json"

# Files whose rows each name one person, and the column holding that person's ID.
PERSON_FILES: dict[str, str] = {
    "officials_roster.xlsx": "公民身份号码",
    "household_registry.csv": "公民身份号码",
    "company_registry.csv": "法定代表人证件号码",
    "company_shareholders.csv": "股东证件号码",      # natural-person rows only
    "company_executives.csv": "证件号码",
    "contracts.csv": "审批人证件号码",
    "benefit_rolls.csv": "公民身份号码",
    "disability_registry.csv": "公民身份号码",
    "death_records.xlsx": "公民身份号码",
    "fiscal_payroll.csv": "公民身份号码",
    "real_estate.csv": "权利人证件号码",
    "vehicles.csv": "所有人证件号码",
    "police_case_parties.csv": "公民身份号码",
}

MODEL_IDS = (
    "own_village_project", "relative_beneficiary", "deceased_beneficiary", "payroll_on_welfare",
    "poor_with_assets", "gambling_with_regulated", "related_bidders", "cadre_subsidy",
    "relative_direct_award", "missing_coverage", "split_contracts", "direct_award_ratio",
    "duplicate_benefits",
)
