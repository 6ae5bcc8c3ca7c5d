public class U1__create_log {}
