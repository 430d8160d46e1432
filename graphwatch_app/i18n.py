"""The explorer's words, Chinese first, English when switched in the sidebar."""

from __future__ import annotations

STRINGS: dict[str, tuple[str, str]] = {
    # navigation
    "app": ("graphwatch 监督分析", "graphwatch explorer"),
    "queue": ("预警列表", "Alert queue"), "alert": ("预警详情", "Alert detail"), "search": ("查询", "Search"),
    "entity": ("对象画像", "Entity"), "paths": ("关系路径", "Path finder"), "workbench": ("模型工作台", "Model workbench"),
    "trends": ("趋势", "Trends"), "data": ("数据", "Data"),
    # sidebar
    "language": ("语言 / Language", "语言 / Language"), "reviewer": ("审核人姓名", "Reviewer name"),
    "reviewer_help": ("无需登录：姓名随每次核查结论和导出一并记录", "No login: this name is stored with every verdict and export"),
    "unmask": ("显示完整身份证号和电话（将记入审计）", "Show full ID and phone numbers (audited)"),
    "unmasked_warn": ("已显示完整证件号，此操作已记入审计", "Identifiers shown in full; this is recorded in the audit"),
    "need_reviewer": ("请先在侧栏填写审核人姓名", "Enter your name in the sidebar first"),
    "workspace": ("工作区", "Workspace"),
    "busy": ("工作区正被另一进程写入（如 graphwatch load），图谱数据暂不可读，请稍后刷新；预警列表与核查结论不受影响。",
             "Another process is writing the workspace (e.g. graphwatch load): graph data cannot be read right now, "
             "refresh in a moment; the alert queue and verdicts keep working."),
    # queue
    "model": ("模型", "Model"), "severity": ("风险等级", "Severity"), "status": ("状态", "Status"),
    "township": ("乡镇", "Township"), "village": ("村", "Village"), "since": ("起始日期", "From"),
    "until": ("截止日期", "Until"), "all": ("全部", "all"), "sort": ("排序", "Sort by"),
    "page": ("页码", "Page"), "per_page": ("每页条数", "Per page"), "alerts_found": ("条预警", "alerts"),
    "counts": ("各模型预警数与查实率", "Alerts and precision (查实率) per model"),
    "precision": ("查实率", "Precision"), "no_verdicts": ("尚无结论", "no verdicts yet"),
    "open_alert": ("打开预警", "Open alert"), "no_alerts": ("没有符合条件的预警。运行模型：graphwatch run --workspace",
                                                    "No alerts match. Run the models: graphwatch run --workspace"),
    "run_models": ("运行全部模型", "Run all models"), "running": ("正在运行模型…", "Running models…"),
    # alert
    "choose_alert": ("选择预警", "Choose an alert"), "explanation": ("预警说明", "Explanation"),
    "evidence": ("证据关系图", "Evidence graph"), "details": ("节点/关系详情", "Node / relationship details"),
    "click_hint": ("单击图中节点或关系查看详情（日期、来源记录）", "Click a node or relationship for its dates and source records"),
    "verdict": ("核查结论", "Verdict"), "note": ("备注", "Note"), "confirm": ("查实", "Confirm"),
    "dismiss": ("排除", "Dismiss"), "in_review": ("核查中", "In review"), "history": ("结论记录", "Verdict history"),
    "recorded": ("已记录", "Recorded"), "export": ("导出（默认脱敏）", "Export (masked by default)"),
    "prepare": ("生成", "Prepare"), "download": ("下载", "Download"), "no_history": ("暂无结论记录", "No verdicts yet"),
    "subject": ("对象", "Subject"), "object": ("关联对象", "Object"), "open_entity": ("查看对象画像", "Open entity"),
    # search
    "query": ("姓名 / 身份证号 / 企业名称 / 统一社会信用代码", "Name / ID number / company / USCC"),
    "results": ("查询结果", "Results"), "no_results": ("未找到匹配对象", "Nothing matches"),
    "sources": ("来源", "Sources"), "match": ("匹配方式", "Match"),
    # entity
    "choose_entity": ("对象（编号、姓名、身份证号、统一社会信用代码）", "Entity (id, name, ID number, USCC)"),
    "properties": ("属性及来源", "Properties and their sources"), "timeline": ("时间线", "Timeline"),
    "neighbourhood": ("关系网络（逐跳展开，双击节点展开）", "Neighbourhood (hop by hop; double-click a node to expand)"),
    "types_filter": ("关系类型", "Relationship types"), "expand": ("展开一跳", "Expand one hop"),
    "reset": ("重置", "Reset"), "involved": ("涉及该对象的预警", "Alerts involving this entity"),
    "same_as": ("疑似同一人/同一企业（SAME_AS）", "SAME_AS candidates"), "none": ("无", "none"),
    "hop_of": ("已展开", "expanded"),
    # paths
    "from": ("起点对象", "From"), "to": ("终点对象", "To"), "max_hops": ("最大跳数", "Max hops"),
    "find_paths": ("查找路径", "Find paths"), "no_path": ("在该跳数内没有路径", "No path within that many hops"),
    "paths_found": ("条路径", "path(s)"),
    # workbench
    "pick_pattern": ("选择模型", "Pick a pattern"), "new_query": ("（新写 Cypher）", "(write Cypher)"),
    "cypher": ("Cypher 查询", "Cypher query"), "params": ("参数（JSON）", "Parameters (JSON)"),
    "validate": ("校验", "Validate"), "valid": ("查询有效", "The query is valid"), "sql": ("生成的 SQL", "Generated SQL"),
    "run": ("运行", "Run"), "row_limit": ("最多返回行数", "Row limit"), "engine": ("引擎", "Engine"),
    "rows": ("行", "row(s)"), "fixtures": ("运行测试样例", "Run fixtures"), "save": ("另存为模型文件", "Save as a pattern file"),
    "pattern_id": ("新模型编号（小写字母、数字、下划线）", "New pattern id (lowercase letters, digits, _)"),
    "saved": ("已保存", "Saved"), "neo4j_off": ("未配置 Neo4j（用 graphwatch app --neo4j URI 启动）",
                                              "Neo4j not configured (start with graphwatch app --neo4j URI)"),
    "hit_evidence": ("命中结果的证据", "Evidence of the hits"),
    # trends
    "period": ("周期", "Period"), "month": ("月", "month"), "year": ("年", "year"),
    "alerts_per": ("各模型预警数", "Alerts per model"), "confirmed_dismissed": ("查实与排除", "Confirmed vs dismissed"),
    # data
    "datasets": ("已加载数据集及核算", "Loaded datasets and their accounting"),
    "quarantine": ("隔离行（含原因）", "Quarantined rows with their reasons"),
    "review_queue": ("实体识别复核队列", "Entity-resolution review queue"), "same": ("相同", "Same"),
    "not_same": ("不同", "Not same"), "unsure": ("无法确定", "Unsure"), "pair": ("记录对", "Pair"),
    "judged": ("已记录判断并重新聚类", "Judgement recorded, entities re-clustered"),
    "not_resolved": ("工作区尚未做实体识别（graphwatch resolve）", "The workspace is not resolved yet (graphwatch resolve)"),
    "audit": ("审计记录", "Audit log"),
    # errors
    "bad_input": ("输入无效", "Invalid input"), "error": ("出错", "Error"),
}


def t(key: str, lang: str = "zh") -> str:
    zh, en = STRINGS[key]
    return en if lang == "en" else zh
