"""A corpus of spreadsheets saved the way tools outside the US save them, built by the tests.

Each `CodepageCase` is a small, realistic table (city, region, population, a remark) in
one language, to be encoded with the code page Excel's plain "CSV" uses on a Windows
machine in that country. Number cases are columns written under one local convention.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CodepageCase:
    """One language's table and the code page its files come in."""

    language: str
    codec: str
    delimiter: str
    header: tuple[str, str, str, str]
    rows: tuple[tuple[str, str, int, str], ...]

    def text(self) -> str:
        lines = [self.delimiter.join(self.header)]
        lines += [self.delimiter.join((c, r, str(p), n)) for c, r, p, n in self.rows]
        return "\r\n".join(lines) + "\r\n"  # Excel on Windows writes CRLF

    def encoded(self) -> bytes:
        return self.text().encode(self.codec)


CODEPAGE_CASES = (
    CodepageCase(
        "Russian",
        "cp1251",
        ";",
        ("город", "регион", "население", "примечание"),
        (
            ("Москва", "Центральный", 13010112, "столица, крупнейший город страны"),
            ("Санкт-Петербург", "Северо-Западный", 5601911, "бывшая столица империи"),
            ("Новосибирск", "Сибирский", 1633595, "третий по численности город"),
            ("Екатеринбург", "Уральский", 1544376, "промышленный центр Урала"),
            ("Казань", "Приволжский", 1308660, "столица Республики Татарстан"),
            ("Нижний Новгород", "Приволжский", 1228199, "город на слиянии Оки и Волги"),
            ("Челябинск", "Уральский", 1189525, "металлургия и машиностроение"),
            ("Красноярск", "Сибирский", 1187771, "крупный город на Енисее"),
            ("Самара", "Приволжский", 1173299, "авиационная и космическая промышленность"),
            ("Уфа", "Приволжский", 1144809, "столица Башкортостана"),
            ("Ростов-на-Дону", "Южный", 1142162, "южные ворота России"),
            ("Омск", "Сибирский", 1125695, "город на Иртыше"),
        ),
    ),
    CodepageCase(
        "Polish",
        "cp1250",
        ";",
        ("miasto", "województwo", "ludność", "uwagi"),
        (
            ("Warszawa", "mazowieckie", 1863056, "stolica, siedziba władz państwowych"),
            ("Kraków", "małopolskie", 804237, "dawna stolica, zabytkowe Stare Miasto"),
            ("Wrocław", "dolnośląskie", 674132, "miasto stu mostów nad Odrą"),
            ("Łódź", "łódzkie", 658444, "przemysł włókienniczy, szkoła filmowa"),
            ("Poznań", "wielkopolskie", 541316, "targi międzynarodowe i koziołki"),
            ("Gdańsk", "pomorskie", 486022, "port nad Bałtykiem, stocznia"),
            ("Szczecin", "zachodniopomorskie", 391566, "port nad Odrą i Zalewem"),
            ("Bydgoszcz", "kujawsko-pomorskie", 330038, "miasto nad Brdą"),
            ("Lublin", "lubelskie", 331243, "ośrodek akademicki wschodniej Polski"),
            ("Białystok", "podlaskie", 294242, "brama na Podlasie i do puszczy"),
            ("Katowice", "śląskie", 285711, "stolica Górnego Śląska"),
            ("Gdynia", "pomorskie", 243918, "młode miasto portowe"),
        ),
    ),
    CodepageCase(
        "Japanese",
        "cp932",
        ",",
        ("都市", "地方", "人口", "備考"),
        (
            ("東京", "関東", 13960000, "日本の首都で最大の都市"),
            ("横浜", "関東", 3770000, "港町として知られる"),
            ("大阪", "近畿", 2750000, "商業の中心地、食い倒れの街"),
            ("名古屋", "中部", 2320000, "自動車産業が盛ん"),
            ("札幌", "北海道", 1970000, "雪まつりで有名"),
            ("福岡", "九州", 1610000, "屋台とラーメンの街"),
            ("川崎", "関東", 1540000, "工業地帯と住宅地"),
            ("神戸", "近畿", 1520000, "異国情緒あふれる港町"),
            ("京都", "近畿", 1460000, "古い寺院と神社が多い"),
            ("さいたま", "関東", 1340000, "首都圏のベッドタウン"),
            ("広島", "中国", 1200000, "平和記念公園がある"),
            ("仙台", "東北", 1090000, "杜の都と呼ばれる"),
        ),
    ),
    CodepageCase(
        "Simplified Chinese",
        "gb18030",
        ",",
        ("城市", "省份", "人口", "备注"),
        (
            ("北京", "北京市", 21540000, "中华人民共和国首都，政治文化中心"),
            ("上海", "上海市", 24870000, "国际经济、金融、贸易中心"),
            ("广州", "广东省", 18680000, "华南地区的商业中心"),
            ("深圳", "广东省", 17560000, "经济特区，科技企业聚集"),
            ("成都", "四川省", 20940000, "天府之国，美食之都"),
            ("重庆", "重庆市", 32050000, "山城，长江上游经济中心"),
            ("武汉", "湖北省", 12330000, "九省通衢，高校众多"),
            ("西安", "陕西省", 12950000, "十三朝古都，兵马俑所在地"),
            ("杭州", "浙江省", 11940000, "西湖美景，电子商务发达"),
            ("南京", "江苏省", 9310000, "六朝古都，历史文化名城"),
            ("天津", "天津市", 13870000, "北方重要港口城市"),
            ("苏州", "江苏省", 12750000, "园林之城，制造业发达"),
        ),
    ),
    CodepageCase(
        "Traditional Chinese",
        "cp950",
        ",",
        ("城市", "地區", "人口", "備註"),
        (
            ("臺北", "北部", 2602418, "首都，政治經濟中心"),
            ("新北", "北部", 4030954, "人口最多的直轄市"),
            ("桃園", "北部", 2268807, "國際機場所在地"),
            ("臺中", "中部", 2820787, "氣候宜人，文化城市"),
            ("臺南", "南部", 1874917, "歷史最悠久的古都"),
            ("高雄", "南部", 2765932, "重要的港口與工業城市"),
            ("新竹", "北部", 451412, "科學園區，風城"),
            ("基隆", "北部", 367577, "雨港，廟口夜市"),
            ("嘉義", "南部", 266005, "阿里山的門戶"),
            ("花蓮", "東部", 324372, "太魯閣國家公園"),
            ("宜蘭", "東部", 453087, "溫泉與冷泉"),
            ("屏東", "南部", 812658, "墾丁國家公園所在地"),
        ),
    ),
    CodepageCase(
        "Korean",
        "cp949",
        ",",
        ("도시", "지역", "인구", "비고"),
        (
            ("서울", "수도권", 9720846, "대한민국의 수도이자 최대 도시"),
            ("부산", "영남", 3404423, "최대의 항구 도시"),
            ("인천", "수도권", 2947217, "국제공항이 있는 도시"),
            ("대구", "영남", 2438031, "섬유 산업과 사과로 유명"),
            ("대전", "충청", 1518775, "과학 연구 단지가 있는 도시"),
            ("광주", "호남", 1456468, "민주화 운동의 도시"),
            ("울산", "영남", 1136017, "자동차와 조선 산업의 중심"),
            ("수원", "수도권", 1186078, "화성 성곽으로 유명한 도시"),
            ("창원", "영남", 1044740, "기계 공업 도시"),
            ("고양", "수도권", 1073069, "호수공원과 전시장"),
            ("용인", "수도권", 1074176, "민속촌과 놀이공원"),
            ("청주", "충청", 850000, "직지심체요절의 고장"),
        ),
    ),
    CodepageCase(
        "German",
        "cp1252",
        ";",
        ("Stadt", "Bundesland", "Einwohner", "Bemerkung"),
        (
            ("München", "Bayern", 1488202, "Oktoberfest und Biergärten"),
            ("Köln", "Nordrhein-Westfalen", 1083498, "Dom und Karneval"),
            ("Düsseldorf", "Nordrhein-Westfalen", 620523, "Königsallee, Mode und Messe"),
            ("Nürnberg", "Bayern", 518365, "Lebkuchen und Christkindlesmarkt"),
            ("Würzburg", "Bayern", 127934, "Residenz und Weinberge am Main"),
            ("Lübeck", "Schleswig-Holstein", 216530, "Marzipan und Holstentor"),
            ("Göttingen", "Niedersachsen", 118911, "Universitätsstadt, Gänseliesel"),
            ("Münster", "Nordrhein-Westfalen", 317713, "Fahrräder und Friedenssaal"),
            ("Saarbrücken", "Saarland", 180374, "Grenzstadt an der Saar"),
            ("Osnabrück", "Niedersachsen", 165251, "Stadt des Westfälischen Friedens"),
            ("Fürth", "Bayern", 131433, "Nachbarstadt von Nürnberg"),
            ("Gießen", "Hessen", 90131, "Studentenstadt an der Lahn"),
        ),
    ),
)
