"""How common names written in Arabic script are usually read: the short vowels Arabic leaves out.

Arabic writes محمد and محمود with the same first three letters and no short vowels, so a letter-by-
letter reading cannot tell "Mohammed" from "Mahmoud". For frequent given names, family-name words
and the second halves of compounds (عبد ال..., ... الدين), this table gives the usual reading in
plain Latin letters; `latin.py` then treats it as it treats any Latin spelling. Written for awda
from common usage (one reading per name; the Latin spelling variants are left to the rules).
The letters dad, za and dhal are read "dh" (the sound symbol D, which meets d, z and dh). Keys
are in lookup form (`LOOKUP_FOLD`: hamza-seated alefs as bare alef, alef maqsura as ya, ta marbuta
as ha). Words not listed are read letter by letter (`arabic.skeletal_sound`).
"""

from __future__ import annotations

_TABLE = """
محمد muhammad|احمد ahmad|محمود mahmud|حامد hamid|حمد hamad|حمود hamud|حماد hammad|محمدي muhammadi
مهند muhannad|مهدي mahdi|حمدي hamdi|حمدان hamdan|حمزه hamza|حميد hamid|احمدي ahmadi|امجد amjad
مصطفي mustafa|خالد khalid|خليل khalil|خلف khalaf|عمر umar|عمار ammar|عامر amir|عمرو amr
عثمان uthman|علي ali|عليا alya|عاليه aliya|عليه aliya|يوسف yusuf|يونس yunus|يحيي yahya|يعقوب ya'qub
حسن hasan|حسين husayn|حسان hassan|حسني husni|حسنا hasna|حسناء hasna'|حسام husam|محسن muhsin
ابراهيم ibrahim|اسماعيل isma'il|اسحاق ishaq|اسحق ishaq|موسي musa|عيسي isa|عيسى isa|داود dawud|داوود dawud
سليمان sulayman|سلمان salman|سليم salim|سالم salim|سلمي salma|سلام salam|سلامه salama|اسلام islam
سعيد sa'id|سعد sa'd|سعود sa'ud|سعاد su'ad|سعدي sa'di|سيد sayyid|مسعود mas'ud|اسعد as'ad|اسد asad
فاطمه fatima|عائشه a'isha|عايشه aisha|زينب zaynab|خديجه khadija|مريم maryam|امنه amina|آمنه amina
امينه amina|امين amin|ايمن ayman|ايمان iman|يمان yaman|امان aman|امال amal|امل amal|اماني amani
نور nur|نوري nuri|نوره nura|منير munir|منيره munira|انور anwar|نوار nawar|نورا nura
كريم karim|كريمه karima|جمال jamal|جميل jamil|جميله jamila|كمال kamal|كامل kamil|جلال jalal
سمير samir|سميره samira|سامر samir|سامي sami|ساميه samia|سميه sumayya|سماح samah|سمر samar
رحمن rahman|رحيم rahim|رحمه rahma|عزيز aziz|عزيزه aziza|لطيف latif|قادر qadir|ستار sattar
جبار jabbar|مجيد majid|ماجد majid|غني ghani|ناصر nasir|نصر nasr|نصار nassar|منصور mansur
رزاق razzaq|وهاب wahhab|فتاح fattah|حليم halim|حكيم hakim|باسط basit|رؤوف ra'uf|هادي hadi|اله ilah
منعم mun'im|جليل jalil|جواد jawad|قدوس quddus|مالك malik|معين mu'in|مطلب muttalib|باقي baqi|دين din
فتحي fathi|فتحيه fathiya|ادهم adham|طه taha|طلال talal|بلال bilal|هلال hilal|وائل wa'il|وليد walid
رامي rami|راميه ramia|رانيا rania|رنا rana|رياض riyadh|زياد ziyad|زيد zayd|زيدان zaydan|ضياء dhiya'
علاء ala'|بهاء baha'|صفاء safa'|وفاء wafa'|رجاء raja'|دعاء du'a|هناء hana'|سناء sana'|ثناء thana'|شيماء shayma'
اسامه usama|ياسر yasir|ياسين yasin|ياسمين yasmin|هيثم haytham|هشام hisham|هاشم hashim|هاني hani|هبه hiba
شادي shadi|فادي fadi|ناديه nadia|نادر nadir|نذير nadhir|نزار nizar|نضال nidhal|فاضل fadhil|فضل fadhl
رمضان ramadhan|شعبان sha'ban|عبد abd|عبيد ubayd|عابد abid|عبدو abdu|ابو abu|عدنان adnan|عماد imad
عصام isam|عادل adil|عاطف atif|عارف arif|عرفان irfan|انس anas|اياد iyad|اياس iyas|الياس ilyas
بشار bashar|بشير bashir|بشري bushra|بسام bassam|باسل basil|باسم basim|ابتسام ibtisam|بكر bakr|بكري bakri
جابر jabir|جعفر ja'far|جهاد jihad|جودت jawdat|جورج jurj|حبيب habib|حافظ hafidh|حازم hazim|حاتم hatim
حيدر haydar|خضر khidhr|خير khayr|خيري khayri|دياب diab|ديب dib|راتب ratib|راشد rashid|رشيد rashid
رضا ridha|رفعت rif'at|رفيق rafiq|رائد ra'id|رعد ra'd|زكريا zakariya|زكي zaki|زهير zuhayr|زهره zahra
سامح samih|سفيان sufyan|سهيل suhayl|سهام siham|سوسن sawsan|شريف sharif|شوقي shawqi|صالح salih|صلاح salah
صبحي subhi|صباح sabah|صابر sabir|صبري sabri|صادق sadiq|صدام saddam|صفوان safwan|ضاهر dhahir|ظاهر dhahir
طارق tariq|عاصم asim|عبير abir|عفاف afaf|عزت izzat|عز izz|عزالدين izzaldin|عمران imran|عوض awad
غسان ghassan|غاده ghada|فارس faris|فاروق faruq|فايز fayiz|فايزه fayiza|فراس firas|فريد farid|فيصل faysal
قاسم qasim|قصي qusay|كنان kinan|لؤي lu'ay|لبنى lubna|ليلي layla|ليلى layla|لينا lina|مازن mazin|ماهر mahir
مالك malik|مأمون ma'mun|مامون ma'mun|مجد majd|مراد murad|مروان marwan|مروه marwa|مصعب mus'ab|معاذ mu'adh
منذر mundhir|منى muna|مها maha|موفق muwaffaq|ميسون maysun|نائل na'il|نبيل nabil|نبيله nabila|نجاح najah
نجيب najib|نزيه nazih|نعيم na'im|نهاد nihad|نوال nawal|هدي huda|هند hind|هيفاء hayfa'|وسيم wasim|وعد wa'd
ياسمينه yasmina|يزن yazan|حلا hala|هاله hala|ربا ruba|رهف rahaf|رغد raghad|شهد shahd|جنى jana|تسنيم tasnim
مرعي mar'i|مرشد murshid|محي muhyi|مهيب muhib|عبود abbud|حموده hamuda|درويش darwish|حداد haddad|خوري khuri
نجار najjar|عطار attar|صباغ sabbagh|حلبي halabi|حمصي homsi|شامي shami|مصري masri|كردي kurdi|زعبي zu'bi
حريري hariri|حوراني hawrani|ادلبي idlibi|حموي hamawi|خطيب khatib|حسيني husayni|حسني husni|رفاعي rifa'i
دمشقي dimashqi|ديري dayri|قباني qabbani|عطا ata|عطيه atiya|نعمه ni'ma|نعمان nu'man|لقمان luqman|سلطان sultan
ايهم ayham|اديب adib|اكرم akram|امير amir|باهر bahir|برهان burhan|تامر tamir|توفيق tawfiq|تيسير taysir
ثائر tha'ir|حكمت hikmat|حيان hayyan|خلدون khaldun|راغب raghib|رامز ramiz|ربيع rabi'|رضوان ridhwan|زاهر zahir
ساري sari|سمعان sam'an|شفيق shafiq|صهيب suhayb|ضرار dhirar|عدي uday|عروه urwa|عيد id|غياث ghiyath|غيث ghayth
فؤاد fu'ad|فواز fawwaz|قتيبه qutayba|قيس qays|مدحت midhat|معتز mu'tazz|مؤمن mu'min|مؤيد mu'ayyad|ناجي naji
همام humam|وسام wisam|وضاح wadhdhah|يامن yamin|يعرب ya'rub|ايه aya|اسيل asil|بتول batul|بيان bayan|جود jud
حنان hanan|خلود khulud|دانه dana|ديما dima|روان rawan|ريم rim|ريما rima|رزان razan|زينه zayna|ساره sara
سدره sidra|سهي suha|علا ula|غدير ghadir|فرح farah|كوثر kawthar|لانا lana|لين lin|مرام maram
ميس mays|ميساء maysa'|نادين nadin|نسرين nisrin|هديل hadil|ولاء wala'|يارا yara|جاسم jasim|شيخ shaykh
نعيمي nu'aymi|دباغ dabbagh|حلاق hallaq|طحان tahhan|زين zayn|اتاسي atasi|جابري jabiri|بيطار baytar|كيالي kayyali
سباعي siba'i|شهابي shihabi|نحاس nahhas|ساعاتي sa'ati|معلم mu'allim|قطان qattan|ايوبي ayyubi|تركماني turkmani
عيسى isa|حسنين hasanayn|عثماني uthmani|بكور bakkur|شحاده shihada|جمعه jum'a|حجي hajji|حاج hajj|عبدالقادر abdulqadir
براءه bara'a|اسراء isra'|الاء ala'|اسماء asma'|عبيده ubayda|رقيه ruqayya|لمي lama|هدي huda
"""

# Lookup form: every alef alike, final ى as ي and ة as ه (registrars' keyboards vary on these).
LOOKUP_FOLD = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ى": "ي", "ة": "ه"})


def _read_table(table: str) -> dict[str, str]:
    pairs = [entry.split(" ") for line in table.strip().splitlines() for entry in line.split("|")]
    return {arabic.translate(LOOKUP_FOLD): latin for arabic, latin in pairs}


VOWELISED: dict[str, str] = _read_table(_TABLE)
