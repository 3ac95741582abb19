"""The scorecard's texts in Arabic and English.

A small dictionary rather than the web app's gettext catalogues: the scorecard is a set of static
files written once per run, and its texts are few. `tests/test_scorecard.py` checks that every key
has both languages. Placeholders are `str.format` fields, filled with numbers already formatted
for the locale.
"""

from __future__ import annotations

LANGUAGES = ("ar", "en")

TEXTS: dict[str, dict[str, str]] = {
    "scorecard": {"en": "Scorecard of returns", "ar": "سجل نتائج العودة"},
    "intro": {
        "en": "What happened to people after they returned under each agreement and each guarantor, "
        "as recorded by protection monitors. Figures of fewer than {k} people are not published.",
        "ar": "ما جرى للعائدين بعد عودتهم بموجب كل اتفاق ومع كل ضامن، كما سجّله مراقبو الحماية. "
        "لا تُنشر أي أرقام تخص أقل من {k} أشخاص.",
    },
    "generated_on": {"en": "Figures as of {date}.", "ar": "الأرقام حتى تاريخ {date}."},
    "other_language": {"en": "العربية", "ar": "English"},
    "agreements": {"en": "Agreements", "ar": "الاتفاقات"},
    "guarantors": {"en": "Guarantors", "ar": "الضامنون"},
    "kind_agreement": {"en": "Agreement", "ar": "اتفاق"},
    "kind_guarantor": {"en": "Guarantor", "ar": "ضامن"},
    "back_to_list": {"en": "All agreements and guarantors", "ar": "كل الاتفاقات والضامنين"},
    "people_arrived": {"en": "People arrived", "ar": "عدد الواصلين"},
    "households": {"en": "Households", "ar": "عدد الأسر"},
    "small_cohort_agreement": {
        "en": "Fewer than {k} people returned under this agreement: its figures are not published.",
        "ar": "عاد أقل من {k} أشخاص بموجب هذا الاتفاق، لذلك لا تُنشر أرقامه.",
    },
    "small_cohort_guarantor": {
        "en": "Fewer than {k} people returned with this guarantor: its figures are not published.",
        "ar": "عاد أقل من {k} أشخاص بضمانة هذا الضامن، لذلك لا تُنشر أرقامه.",
    },
    "figures_suppressed": {"en": "figures not published", "ar": "الأرقام غير منشورة"},
    "survival_heading": {"en": "Still free of serious violation", "ar": "نسبة من لم يتعرضوا لانتهاك جسيم"},
    "survival_caption": {
        "en": "The line is the estimated percentage of people not yet arrested, detained, disappeared, "
        "conscripted or killed, by days since arrival; the shaded band is its 95% confidence interval. "
        "Horizontal axis: days since arrival. Vertical axis: percent.",
        "ar": "يمثل الخط النسبة المقدّرة لمن لم يتعرضوا بعدُ للاعتقال أو الاحتجاز أو الإخفاء أو التجنيد "
        "الإجباري أو القتل، بحسب عدد الأيام منذ الوصول؛ والشريط المظلل هو مجال الثقة 95٪. "
        "المحور الأفقي: الأيام منذ الوصول. المحور العمودي: النسبة المئوية.",
    },
    "no_survival": {
        "en": "Not enough people have been followed up to draw this curve.",
        "ar": "لم تتم متابعة عدد كافٍ من الأشخاص لرسم هذا المنحنى.",
    },
    "curve_cut": {
        "en": "The curve stops on day {day}, the last day on which at least {k} people were still followed.",
        "ar": "يتوقف المنحنى عند اليوم {day}، وهو آخر يوم كان فيه {k} أشخاص على الأقل قيد المتابعة.",
    },
    "day": {"en": "Day", "ar": "اليوم"},
    "survival": {"en": "Free of serious violation", "ar": "دون انتهاك جسيم"},
    "confidence_interval": {"en": "95% confidence interval", "ar": "مجال الثقة 95٪"},
    "at_risk": {"en": "People still followed", "ar": "عدد من لا يزالون قيد المتابعة"},
    "image_survival": {
        "en": "Survival curve with its confidence band",
        "ar": "منحنى البقاء مع شريط مجال الثقة",
    },
    "image_incidence": {"en": "Cumulative incidence by cause", "ar": "الوقوع التراكمي بحسب السبب"},
    "vector_image": {"en": "Vector image (SVG)", "ar": "صورة متجهية (SVG)"},
    "incidence_heading": {"en": "First serious violation, by cause", "ar": "أول انتهاك جسيم، بحسب السبب"},
    "incidence_caption": {
        "en": "Each line is the estimated percentage of people whose first serious violation was of that "
        "cause, by days since arrival, with its 95% confidence band. Horizontal axis: days since arrival. "
        "Vertical axis: percent.",
        "ar": "يمثل كل خط النسبة المقدّرة لمن كان أول انتهاك جسيم تعرضوا له من هذا السبب، بحسب عدد الأيام "
        "منذ الوصول، مع شريط مجال الثقة 95٪. المحور الأفقي: الأيام منذ الوصول. المحور العمودي: النسبة المئوية.",
    },
    "cause": {"en": "Cause", "ar": "السبب"},
    "estimate": {"en": "Estimate", "ar": "التقدير"},
    "hazard_heading": {"en": "Changes in the rate of violations", "ar": "تغيّرات في معدل الانتهاكات"},
    "hazard_none": {
        "en": "No change in the rate of first serious violations was found.",
        "ar": "لم يُعثر على أي تغيّر في معدل أول انتهاك جسيم.",
    },
    "hazard_before": {"en": "Rate before (per person-year)", "ar": "المعدل قبل (لكل شخص-سنة)"},
    "hazard_after": {"en": "Rate after (per person-year)", "ar": "المعدل بعد (لكل شخص-سنة)"},
    "hazard_p_value": {
        "en": "Probability of a change this large by chance (p-value): {p}",
        "ar": "احتمال حدوث تغيّر بهذا الحجم بالصدفة (القيمة الاحتمالية): {p}",
    },
    "incidents_heading": {"en": "Incidents by type and month", "ar": "الحوادث بحسب النوع والشهر"},
    "incidents_caption": {
        "en": "People affected by at least one incident of each type in each month.",
        "ar": "عدد الأشخاص الذين تعرضوا لحادثة واحدة على الأقل من كل نوع في كل شهر.",
    },
    "month": {"en": "Month", "ar": "الشهر"},
    "total": {"en": "Total", "ar": "المجموع"},
    "arrivals_heading": {"en": "Arrivals by month", "ar": "الواصلون بحسب الشهر"},
    "people": {"en": "People", "ar": "الأشخاص"},
    "followups_heading": {"en": "Follow-up visits", "ar": "زيارات المتابعة"},
    "followups_caption": {
        "en": "Follow-ups of the returned households that were due by the date of the figures.",
        "ar": "متابعات الأسر العائدة التي حان موعدها حتى تاريخ الأرقام.",
    },
    "followups_due": {"en": "Due", "ar": "المستحقة"},
    "followups_reached": {"en": "Reached", "ar": "تم التواصل"},
    "followups_not_reached": {"en": "Not reached", "ar": "لم يتم التواصل"},
    "followups_moved": {"en": "Moved away", "ar": "انتقلت الأسرة"},
    "followups_refused": {"en": "Refused", "ar": "رفضت الأسرة"},
    "followups_overdue": {"en": "Overdue", "ar": "متأخرة"},
    "terms_heading": {"en": "Terms of the agreement", "ar": "بنود الاتفاق"},
    "terms_none": {"en": "No terms recorded.", "ar": "لا توجد بنود مسجّلة."},
    "method_heading": {"en": "Method", "ar": "المنهجية"},
    "method": {
        "en": "A serious violation is an arrest, detention, enforced disappearance, conscription or killing "
        "({verification}). Each person is counted from arrival until the first serious violation, or until "
        "the last follow-up that reached the household (after which nothing is known). The curve is the "
        "Kaplan-Meier estimate; its band is the 95% confidence interval on the log(-log) scale. Causes are "
        "estimated with the Aalen-Johansen method, which allows for the other causes. A change in the rate "
        "is a day on which the risk of a first serious violation steps up or down, found by profile "
        "likelihood; its p-value comes from a permutation test.",
        "ar": "الانتهاك الجسيم هو الاعتقال أو الاحتجاز أو الإخفاء القسري أو التجنيد الإجباري أو القتل "
        "({verification}). يُحتسب كل شخص من تاريخ وصوله حتى أول انتهاك جسيم، أو حتى آخر متابعة تم فيها "
        "التواصل مع أسرته (ولا يُعرف شيء بعدها). المنحنى هو تقدير كابلان-ماير، وشريطه هو مجال الثقة 95٪ "
        "بمقياس اللوغاريتم المزدوج. تُقدَّر الأسباب بطريقة آلن-يوهانسن التي تأخذ الأسباب الأخرى بالحسبان. "
        "تغيّر المعدل هو يوم يرتفع فيه أو ينخفض خطر التعرض لأول انتهاك جسيم، ويُحدَّد بطريقة الأرجحية "
        "الجانبية، وتُحسب قيمته الاحتمالية باختبار التبديل.",
    },
    "verification_reported": {"en": "all reports", "ar": "جميع البلاغات"},
    "verification_credible": {"en": "reports judged credible or verified", "ar": "البلاغات الموثوقة أو المؤكدة"},
    "verification_verified": {"en": "verified reports only", "ar": "البلاغات المؤكدة فقط"},
    "disclosure_heading": {"en": "What is not published, and why", "ar": "ما لا يُنشر، ولماذا"},
    "disclosure": {
        "en": "To protect the people counted here, no figure of 1 to {k_less} people is published: such a "
        "figure is shown as {mark}, and so is any figure from which one could be worked out, for example "
        "by subtracting the other months from a total, or an agreement from its guarantor. Zero is "
        "published. Curves stop on the last day on which at least {k} people were still followed, and are "
        "drawn in steps of {step} days, so that no single day can be read from them. Agreements and "
        "guarantors with fewer than {k} people are listed without figures.",
        "ar": "حمايةً للأشخاص المعدودين هنا، لا يُنشر أي رقم يخص من شخص واحد إلى {k_less} أشخاص، بل يظهر "
        "مكانه الرمز {mark}، وكذلك كل رقم يمكن أن يُستنتج منه رقم كهذا، مثلاً بطرح الأشهر الأخرى من "
        "المجموع أو بطرح اتفاق من أرقام ضامنه. يُنشر الصفر. تتوقف المنحنيات عند آخر يوم كان فيه {k} "
        "أشخاص على الأقل قيد المتابعة، وتُرسم بخطوات من {step} أيام كي لا يُقرأ منها أي يوم بعينه. "
        "تُدرج الاتفاقات والضامنون الذين يقل عدد أشخاصهم عن {k} دون أرقام.",
    },
    "suppressed_mark": {"en": "[c]", "ar": "[م]"},
    "suppressed_title": {"en": "not published", "ar": "غير منشور"},
    "incident_arrest": {"en": "Arrest", "ar": "اعتقال"},
    "incident_detention": {"en": "Detention", "ar": "احتجاز"},
    "incident_enforced_disappearance": {"en": "Enforced disappearance", "ar": "إخفاء قسري"},
    "incident_conscription": {"en": "Conscription", "ar": "تجنيد إجباري"},
    "incident_killing": {"en": "Killing", "ar": "قتل"},
    "incident_injury": {"en": "Injury", "ar": "إصابة"},
    "incident_property_seizure": {"en": "Property seizure", "ar": "مصادرة ممتلكات"},
    "incident_extortion": {"en": "Extortion", "ar": "ابتزاز"},
    "incident_denial_of_entry": {"en": "Denial of entry", "ar": "منع من الدخول"},
    "incident_checkpoint_harassment": {"en": "Harassment at a checkpoint", "ar": "مضايقة على حاجز"},
    "cause_arrest_detention": {"en": "Arrest or detention", "ar": "اعتقال أو احتجاز"},
    "cause_conscription": {"en": "Conscription", "ar": "تجنيد إجباري"},
    "cause_death_disappearance": {"en": "Killing or disappearance", "ar": "قتل أو إخفاء"},
}

# Incident types in the order the tables show them (the registry's vocabulary).
INCIDENT_ORDER = (
    "arrest",
    "detention",
    "enforced_disappearance",
    "conscription",
    "killing",
    "injury",
    "property_seizure",
    "extortion",
    "denial_of_entry",
    "checkpoint_harassment",
)


def text(key: str, language: str, **fields: str) -> str:
    """The text `key` in `language`, with its placeholders filled."""
    template = TEXTS[key][language]
    return template.format(**fields) if fields else template


def label(prefix: str, code: str, language: str) -> str:
    """The name of a vocabulary code (incident type, cause); the code itself when it has no name yet."""
    entry = TEXTS.get(f"{prefix}_{code}")
    return entry[language] if entry else code
